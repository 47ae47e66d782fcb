/*
 * psl.h - the Public Suffix List: which part of a name is a public suffix
 * ("co.uk", "github.io") and which is the registrable domain ("example.co.uk").
 *
 * Loaded from Debian's `publicsuffix` package (public_suffix_list.dat) at run
 * time; nothing of the list is built in.  Without the file the callers fall
 * back to a syntax check (sk_psl_* accept psl == NULL and then treat the last
 * label as the suffix when it looks like a TLD: 2..63 letters, or "xn--").
 * Names are ASCII (IDNs in punycode as in DNS); matching is case-insensitive.
 * The list's Unicode rules never match punycode names (a known limit).
 */
#ifndef SCHAKEL_PSL_H
#define SCHAKEL_PSL_H

#include <stdbool.h>
#include <stddef.h>

#include "schakel/error.h"

#define SK_PSL_DEFAULT_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

typedef struct sk_psl sk_psl;

/*
 * Load the list from path (NULL = SK_PSL_DEFAULT_PATH).  SK_ENOTFOUND when the
 * file does not exist, SK_EINVAL when it holds no rule, SK_ELIMIT past 16 MiB.
 * The caller frees *out with sk_psl_free().
 */
sk_err sk_psl_load(const char *path, sk_psl **out, sk_error *err);

/* Parse rules from memory (same format as the file).  Caller frees *out. */
sk_err sk_psl_load_mem(const char *text, size_t len, sk_psl **out, sk_error *err);

void sk_psl_free(sk_psl *psl);

/* Number of rules loaded (0 for NULL). */
size_t sk_psl_count(const sk_psl *psl);

/*
 * Length of the public suffix at the end of name[0..n) (a trailing dot is
 * ignored).  *listed (may be NULL) says whether an explicit rule matched, as
 * opposed to the implicit "*" rule or the no-list fallback; text scanning
 * uses it as "the TLD exists".  Returns 0 when name has no valid last label.
 */
size_t sk_psl_suffix_len(const sk_psl *psl, const char *name, size_t n, bool *listed);

/*
 * Offset in name of the registrable domain (public suffix plus one label),
 * e.g. 4 for "www.example.co.uk"; -1 when name is itself a public suffix or
 * has no valid suffix.  The registrable domain runs to the end of name
 * (minus a trailing dot).
 */
long sk_psl_registrable(const sk_psl *psl, const char *name, size_t n);

#endif
