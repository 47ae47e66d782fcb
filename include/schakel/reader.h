/*
 * reader.h - buffered input from a file or stdin, gzip read transparently.
 *
 * Used by every importer and log scanner so that "-" means stdin and a .gz
 * file (recognised by its magic bytes, not its name) just works.  The reader
 * also exposes how far into the underlying file it is, for progress bars.
 */
#ifndef SCHAKEL_READER_H
#define SCHAKEL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"

typedef struct sk_reader sk_reader;

/*
 * Open path ("-" = stdin).  On success *out is a reader the caller frees with
 * sk_reader_close().  Errors name the path.
 */
sk_err sk_reader_open(const char *path, sk_reader **out, sk_error *err);

/*
 * Read from memory: data[0..len) is borrowed and must outlive the reader.
 * gzip data (magic 1f 8b) is inflated.  name is used in messages (copied).
 */
sk_err sk_reader_open_mem(const void *data, size_t len, const char *name, sk_reader **out,
			  sk_error *err);

/* Close and free; r may be NULL.  Does not close stdin. */
void sk_reader_close(sk_reader *r);

/*
 * Read up to n bytes into buf.  *got is 0 at end of input.  Decompression
 * errors (a truncated or corrupt .gz) are reported as SK_EIO.
 */
sk_err sk_reader_read(sk_reader *r, void *buf, size_t n, size_t *got, sk_error *err);

/* Position in the underlying (possibly compressed) file, and its size (0 if unknown). */
uint64_t sk_reader_raw_pos(const sk_reader *r);
uint64_t sk_reader_raw_size(const sk_reader *r);

/* True if the input is gzip-compressed. */
bool sk_reader_is_gzip(const sk_reader *r);

/* The name used in messages ("<stdin>" for "-"). */
const char *sk_reader_name(const sk_reader *r);

#endif
