/*
 * match_hs.h - block-mode Hyperscan databases for the matcher's LIKE and
 * MATCHES comparisons and for the warning lists' substring and regex entries
 * (match_hs.c).  A database is read-only once built and may be shared by
 * threads; each concurrent scan needs its own scratch.
 */
#ifndef SCHAKEL_MATCH_HS_H
#define SCHAKEL_MATCH_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/error.h"

typedef struct mhs mhs;
#define SK_MHS_DOTALL   1u /* flags below: '.' also matches a newline (LIKE) */
#define SK_MHS_CASELESS 2u /* ASCII letters match either case */
/* Check that one expression compiles (reason in err when not). */
sk_err sk_mhs_check(const char *regex, unsigned flags, sk_error *err);
/*
 * One database of n expressions; expression i reports id i.  When Hyperscan
 * refuses one, *bad (may be NULL) is its index (UINT32_MAX when the failure
 * is not one expression's).  *out is freed with sk_mhs_free().
 */
sk_err sk_mhs_build(const char *const *regexes, const unsigned *flags, uint32_t n, mhs **out,
                    uint32_t *bad, sk_error *err);
/* One database of n literals (byte strings lits[i][0..lens[i]), lens[i] > 0; id i). */
sk_err sk_mhs_build_lit(const char *const *lits, const size_t *lens, uint32_t n, mhs **out,
                        sk_error *err);
void sk_mhs_free(mhs *h);
/*
 * The database as bytes (hs_serialize_database; *bytes is freed with free())
 * and back (hs_deserialize_database, which checks Hyperscan's version,
 * platform and checksum: SK_EINVAL when it refuses them).
 */
sk_err sk_mhs_serialize(const mhs *h, char **bytes, size_t *len, sk_error *err);
sk_err sk_mhs_deserialize(const char *bytes, size_t len, mhs **out, sk_error *err);
/* "hs=VERSION plat=TUNE/CPUFEATURES" of this process into buf; returns the length. */
size_t sk_mhs_env(char *buf, size_t n);

/*
 * A scratch is used by one thread at a time.  sk_mhs_scratch_fit allocates
 * *s (when NULL) or grows it so that it also serves h; one scratch can then
 * scan several databases.  Freed with sk_mhs_scratch_free().
 */
typedef struct mhs_scratch mhs_scratch;
sk_err sk_mhs_scratch_new(const mhs *h, mhs_scratch **out, sk_error *err);
sk_err sk_mhs_scratch_fit(const mhs *h, mhs_scratch **s, sk_error *err);
void sk_mhs_scratch_free(mhs_scratch *s);
/*
 * Call fn(id, ud) for each expression that matches s[0..n) (each at most
 * once); false if Hyperscan failed (the matches reported may be incomplete).
 */
bool sk_mhs_scan(const mhs *h, mhs_scratch *s, const char *str, size_t n,
                 void (*fn)(uint32_t id, void *ud), void *ud);
size_t sk_mhs_bytes(const mhs *h);
/* LIKE pattern to an anchored regex (malloc'd; caller frees); NULL on OOM. */
char *sk_mhs_like_to_regex(const char *like, size_t n);

#endif
