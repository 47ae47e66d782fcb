/*
 * logbuild.h - the one way to fill an observation record (schakel/logrec.h):
 * typed adders that check a value's syntax and normalise it (lower-case
 * names, hashes without colons, parsed IPv4) so that every log format hands
 * the matcher the same shapes, and the time parsers the readers share.
 *
 * It lives with the record rather than with the readers because the
 * matcher's exact-key lookups rely on this normalisation; the readers
 * (src/logs/) stand on it.  Nothing allocates: rewritten values go to the
 * reader's scratch area, sized to hold every rewrite of one maximal line.
 */
#ifndef SCHAKEL_LOGBUILD_H
#define SCHAKEL_LOGBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schakel/logrec.h"

typedef struct sk_logbuild {
	sk_logrec *rec;
	char *scratch; /* owned by the reader */
	size_t used, cap;
} sk_logbuild;

/* Start a record for a line. */
void sk_logrec_begin(sk_logbuild *b, const char *line, size_t len, uint64_t lineno,
                     uint64_t offset);

/* Copy n bytes to scratch; NULL (and rec->dropped++) when full. */
char *sk_logrec_scratch(sk_logbuild *b, const char *s, size_t n);
/* Reserve n bytes of scratch (uninitialised); NULL when full (no drop counted). */
char *sk_logrec_reserve(sk_logbuild *b, size_t n);

/* Append a value as given (already normalised).  False when the record is full. */
bool sk_logrec_add(sk_logbuild *b, sk_obs_kind kind, sk_obs_role role, const char *field,
                   const char *v, size_t n);

/* An ASCII decimal digit (the readers' checks; no locale). */
static inline bool sk_logrec_digit(unsigned char c)
{
	return (unsigned)(c - '0') < 10u;
}

/* Typed adders: check syntax, normalise, add; false when the value is not of the kind. */
bool sk_logrec_add_ip(sk_logbuild *b, sk_obs_role role, const char *field, const char *v, size_t n);
bool sk_logrec_add_domain(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                          size_t n);
/* IP or domain (HTTP Host, SAN, DNS answers); a ":port" after a name is cut. */
bool sk_logrec_add_host(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                        size_t n);
/* kind SK_OBS_NONE = choose MD5/SHA1/SHA256/SHA512 by length.  Colons are removed. */
bool sk_logrec_add_hash(sk_logbuild *b, sk_obs_kind kind, const char *field, const char *v,
                        size_t n);
bool sk_logrec_add_email(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                         size_t n);
/*
 * A telephone number as SK_OBS_PHONE in E.164: the user part of a tel:,
 * sip: or sips: URI (in angle brackets after a display name or not), or a
 * number as written ("+31 20 123 4567", "0031-20-1234567"); a national
 * number without its country code is dropped.  E-mail columns pass SIP and
 * tel URIs here too (sk_logrec_add_email).
 */
bool sk_logrec_add_phone(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                         size_t n);
bool sk_logrec_add_url(sk_logbuild *b, const char *field, const char *v, size_t n);
/* "http://" host path, or path alone when it is already absolute. */
bool sk_logrec_add_url_parts(sk_logbuild *b, const char *field, const char *host, size_t hn,
                             const char *path, size_t pn);
bool sk_logrec_add_port(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                        size_t n);
/* Any value, by sk_obs_classify. */
bool sk_logrec_add_auto(sk_logbuild *b, sk_obs_role role, const char *field, const char *v,
                        size_t n);

/* --- host telemetry (logrec_host.c) --- */

/*
 * A registry key with its hive spelled out (HKLM -> HKEY_LOCAL_MACHINE,
 * \REGISTRY\MACHINE -> HKEY_LOCAL_MACHINE, ...) and no trailing backslash,
 * into out (cap bytes), ASCII-lowercased when lower; returns its length, 0
 * when it does not fit.  The one spelling both the readers and the
 * matcher's literals use, so that "HKLM\Run" and "hkey_local_machine\run"
 * are the same key, as they are to Windows.
 */
size_t sk_obs_regkey_canon(const char *s, size_t n, char *out, size_t cap, bool lower);
/* A registry key (SK_OBS_REGKEY), hive spelled out; false when empty. */
bool sk_logrec_add_regkey(sk_logbuild *b, const char *field, const char *v, size_t n);
/* A non-empty value of a host kind as logged (command line, mutex, user, directory). */
bool sk_logrec_add_text(sk_logbuild *b, sk_obs_kind kind, const char *field, const char *v,
                        size_t n);
/* A directory (SK_OBS_DIRECTORY) without a trailing separator unless it is a root. */
bool sk_logrec_add_dir(sk_logbuild *b, const char *field, const char *v, size_t n);
/*
 * A file's full path (Windows or POSIX): its base name as SK_OBS_FILENAME
 * (and SK_OBS_PROCESS when image, a process's executable) and its directory
 * as SK_OBS_DIRECTORY.  A bare name adds the name only.
 */
bool sk_logrec_add_path(sk_logbuild *b, const char *field, const char *v, size_t n, bool image);

/* Epoch seconds with optional fraction ("1521911720.865716") -> microseconds. */
bool sk_logts_epoch(const char *s, size_t n, int64_t *us);
/* RFC 3339 with 'Z', +hh:mm, +hhmm or no zone (= UTC) -> microseconds. */
bool sk_logts_rfc3339(const char *s, size_t n, int64_t *us);

#endif
