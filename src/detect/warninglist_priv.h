/*
 * warninglist_priv.h - what the unit tests see of warninglist.c beyond the
 * public header: the POSIX-to-Hyperscan regex translation and how many regex
 * entries of a set run where.
 */
#ifndef SCHAKEL_WARNINGLIST_PRIV_H
#define SCHAKEL_WARNINGLIST_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/warninglist.h"

/*
 * Translate re, a POSIX extended regex as glibc's regcomp reads it in the C
 * locale (REG_ICASE when icase), into a Hyperscan expression that matches
 * the same strings when compiled with SK_MHS_DOTALL (and SK_MHS_CASELESS
 * when icase).  False, with out unspecified, when re leaves the subset this
 * translation knows to be equivalent (GNU escapes such as \w or \1,
 * collating elements, ranges under icase, repeated quantifiers, empty
 * groups or alternatives, intervals above 255...): such entries stay with
 * regexec.  re must already be accepted by regcomp.
 */
bool sk_warninglist_regex_to_hs(const char *re, bool icase, char *out, size_t outsz);

/* Regex entries of set compiled into Hyperscan, and left to regexec. */
void sk_warninglist_regex_counts(const sk_wl_set *set, size_t *hs, size_t *fallback);

/*
 * Substring lookups that go entry by entry before the Hyperscan database is
 * built (default 256; 0 = build at the first lookup).  Call before any
 * lookup.
 */
void sk_warninglist_sub_lazy(sk_wl_set *set, uint64_t lookups);

#endif
