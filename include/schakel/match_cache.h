/*
 * match_cache.h - a built matcher kept in a file beside the store, so that
 * `scan` starts without compiling every indicator again (match_cache.c;
 * docs/matcher.md, "The matcher cache").
 *
 * The file is one flat image: a header (magic, format, length, checksum,
 * the key it was built for and the window of times it holds for), a
 * section table and the matcher's arrays.  Loading maps the file and points
 * the matcher into it; only the literal pointers are fixed up and the
 * Hyperscan database deserialised.  Every index the matcher follows at
 * match time is checked against its bounds before the matcher is handed
 * out: a damaged or truncated file is refused with the reason, never
 * trusted because its checksum happened to pass.
 */
#ifndef SCHAKEL_MATCH_CACHE_H
#define SCHAKEL_MATCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"
#include "schakel/matcher.h"

#define SK_MCACHE_KEY_MAX 2048

/*
 * What this program contributes to a cache key (the file format, the
 * compiler's revision, Hyperscan's version and the CPU platform it
 * targets) into buf; returns the length.  The caller appends what else
 * shapes the matcher (indicator state, warning lists, options), as
 * space-separated name=value words.
 */
size_t sk_mcache_env(char *buf, size_t n);

/*
 * Write built matcher m to path: a temporary file in the same folder
 * (0600), renamed over path, so a reader sees the old file or the new one.
 * key is the NUL-terminated key; [valid_lo, valid_hi) the times for which
 * the same indicators are selected (INT64_MIN / INT64_MAX: no bound);
 * extra (may be NULL) is stored with it and handed back by the loaders.
 */
sk_err sk_mcache_save(const sk_matcher *m, const char *key, int64_t valid_lo, int64_t valid_hi,
                      const void *extra, size_t extra_len, const char *path, sk_error *err);

/*
 * Load path when it was saved under key and valid_lo <= at < valid_hi.
 * SK_ENOTFOUND: no file.  SK_ECONFLICT: built for another key or time (err
 * names the first word of the key that differs).  SK_EINVAL: damaged (err
 * says how).  SK_ENOMEM.  On success *out is a built matcher with opts
 * (its psl is borrowed; warning lists are not used), freed with
 * sk_matcher_free, and *extra / *extra_len (may be NULL) point to the
 * stored extra bytes, valid until then.
 */
sk_err sk_mcache_load(const char *path, const char *key, int64_t at, const sk_match_opts *opts,
                      sk_matcher **out, const void **extra, size_t *extra_len, sk_error *err);

/* For the fuzz target: no checksum check (the structure checks still run). */
#define SK_MCACHE_NO_CHECKSUM 1u

/*
 * The same from buf[0..len) (copied); key NULL accepts any key and time.
 */
sk_err sk_mcache_load_mem(const void *buf, size_t len, const char *key, int64_t at, unsigned flags,
                          const sk_match_opts *opts, sk_matcher **out, const void **extra,
                          size_t *extra_len, sk_error *err);

#endif
