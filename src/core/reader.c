/*
 * reader.c - plain or gzip input through zlib's gz* interface.
 *
 * gzread passes non-gzip data through unchanged, so one code path serves both;
 * we only need the file size and offset for progress reporting.
 */
#include "schakel/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* zlib prefixes its messages with the name given to gzdopen ("<fd:6>"); drop it. */
static const char *zmsg(const char *m)
{
	if (m && m[0] == '<') {
		const char *e = strstr(m, ">: ");
		if (e)
			return e + 3;
	}
	return m ? m : "error";
}

struct sk_reader {
	gzFile gz; /* file input; NULL for memory input */
	int fd;
	uint64_t size;
	char *name;
	/* memory input */
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	z_stream zs;
	bool inflating, zs_done;
};

sk_err sk_reader_open(const char *path, sk_reader **out, sk_error *err)
{
	sk_reader *r = calloc(1, sizeof(*r));
	struct stat stt;
	sk_err rc = SK_OK;
	bool is_stdin = strcmp(path, "-") == 0;

	*out = NULL;
	if (!r)
		return sk_error_set(err, SK_ENOMEM, "%s: out of memory", path);
	r->name = strdup(is_stdin ? "<stdin>" : path);
	if (!r->name) {
		rc = sk_error_set(err, SK_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	r->fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		rc = sk_error_set(err, SK_EIO, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(r->fd, &stt) == 0) {
		if (S_ISDIR(stt.st_mode)) {
			rc = sk_error_set(err, SK_EIO, "%s: is a directory", path);
			goto out;
		}
		if (S_ISREG(stt.st_mode))
			r->size = (uint64_t)stt.st_size;
	}
	r->gz = gzdopen(r->fd, "rb");
	if (!r->gz) {
		rc = sk_error_set(err, SK_ENOMEM, "%s: cannot start reading", path);
		goto out;
	}
	r->fd = -1; /* owned by gz now */
	gzbuffer(r->gz, 1 << 18);
out:
	if (rc) {
		if (r && r->fd >= 0)
			close(r->fd);
		if (r)
			free(r->name);
		free(r);
		return rc;
	}
	*out = r;
	return SK_OK;
}

sk_err sk_reader_open_mem(const void *data, size_t len, const char *name, sk_reader **out,
			  sk_error *err)
{
	sk_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r || !(r->name = strdup(name ? name : "<memory>"))) {
		free(r);
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	}
	r->fd = -1;
	r->mem = data;
	r->mem_len = len;
	r->size = len;
	if (len >= 2 && r->mem[0] == 0x1f && r->mem[1] == 0x8b) {
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
			free(r->name);
			free(r);
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		}
		r->inflating = true;
		r->zs.next_in = (Bytef *)(uintptr_t)r->mem;
		r->zs.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
		r->mem_pos = r->zs.avail_in;
	}
	*out = r;
	return SK_OK;
}

static sk_err mem_read(sk_reader *r, void *buf, size_t n, size_t *got, sk_error *err)
{
	if (!r->inflating) {
		size_t k = r->mem_len - r->mem_pos;
		if (k > n)
			k = n;
		memcpy(buf, r->mem + r->mem_pos, k);
		r->mem_pos += k;
		*got = k;
		return SK_OK;
	}
	*got = 0;
	if (r->zs_done)
		return SK_OK;
	r->zs.next_out = buf;
	r->zs.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	while (r->zs.avail_out > 0) {
		if (r->zs.avail_in == 0 && r->mem_pos < r->mem_len) {
			size_t k = r->mem_len - r->mem_pos;
			r->zs.next_in = (Bytef *)(uintptr_t)(r->mem + r->mem_pos);
			r->zs.avail_in = (uInt)(k > UINT32_MAX ? UINT32_MAX : k);
			r->mem_pos += r->zs.avail_in;
		}
		int zrc = inflate(&r->zs, Z_NO_FLUSH);
		if (zrc == Z_STREAM_END) {
			r->zs_done = true;
			break;
		}
		if (zrc == Z_BUF_ERROR && r->zs.avail_in == 0 && r->mem_pos == r->mem_len)
			return sk_error_set(err, SK_EIO, "%s: truncated gzip data", r->name);
		if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			return sk_error_set(err, SK_EIO, "%s: corrupt gzip data: %s", r->name,
					    r->zs.msg ? r->zs.msg : "inflate failed");
	}
	*got = n - r->zs.avail_out;
	return SK_OK;
}

void sk_reader_close(sk_reader *r)
{
	if (!r)
		return;
	if (r->inflating)
		inflateEnd(&r->zs);
	if (r->gz)
		gzclose_r(r->gz);
	free(r->name);
	free(r);
}

sk_err sk_reader_read(sk_reader *r, void *buf, size_t n, size_t *got, sk_error *err)
{
	int k;

	if (!r->gz)
		return mem_read(r, buf, n, got, err);
	if (n > (1u << 30))
		n = 1u << 30;
	k = gzread(r->gz, buf, (unsigned)n);
	if (k < 0) {
		int zerr;
		const char *msg = gzerror(r->gz, &zerr);
		*got = 0;
		return sk_error_set(err, SK_EIO, "%s: read error: %s", r->name,
				    zerr == Z_ERRNO ? strerror(errno) : zmsg(msg));
	}
	if (k == 0 && !gzeof(r->gz)) {
		int zerr;
		const char *msg = gzerror(r->gz, &zerr);
		if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
			*got = 0;
			return sk_error_set(err, SK_EIO, "%s: read error: %s", r->name, zmsg(msg));
		}
	}
	if (k == 0) {
		/* gzread reports a truncated gzip stream via gzerror at EOF */
		int zerr;
		const char *msg = gzerror(r->gz, &zerr);
		if (zerr == Z_BUF_ERROR || zerr == Z_DATA_ERROR) {
			*got = 0;
			return sk_error_set(err, SK_EIO, "%s: corrupt or truncated gzip data: %s",
					    r->name, zmsg(msg));
		}
	}
	*got = (size_t)k;
	return SK_OK;
}

uint64_t sk_reader_raw_pos(const sk_reader *r)
{
	if (!r->gz)
		return r->mem_pos;
	z_off_t o = gzoffset(r->gz);
	return o < 0 ? 0 : (uint64_t)o;
}

uint64_t sk_reader_raw_size(const sk_reader *r)
{
	return r->size;
}

bool sk_reader_is_gzip(const sk_reader *r)
{
	if (!r->gz)
		return r->inflating;
	return gzdirect(r->gz) == 0;
}

const char *sk_reader_name(const sk_reader *r)
{
	return r->name;
}
