/*
 * timestamp.h - STIX/TAXII timestamps.
 *
 * STIX timestamps are RFC 3339 in UTC with a literal 'Z' and any number of
 * fractional digits.  The original text is always kept (its precision is part
 * of the object); for ordering we derive a fixed-width key that sorts
 * byte-wise in time order: "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn" (nanoseconds).
 * TAXII date_added values are integers in microseconds since the epoch.
 */
#ifndef SCHAKEL_TIMESTAMP_H
#define SCHAKEL_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_TS_KEY_LEN 29 /* strlen("2016-05-12T08:17:27.000000000") */
#define SK_TS_STR_MAX 40 /* room for any text this module writes */

/*
 * Validate an RFC 3339 UTC timestamp of n bytes.  On success, fill key (if
 * non-NULL, SK_TS_KEY_LEN + 1 bytes) and *us (if non-NULL: microseconds since
 * the epoch, sub-microsecond digits truncated).  Returns false if malformed.
 */
bool sk_ts_parse(const char *s, size_t n, char key[SK_TS_KEY_LEN + 1], int64_t *us);

/* Current time in microseconds since the epoch (CLOCK_REALTIME). */
int64_t sk_ts_now_us(void);

/* Format microseconds as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" into out[SK_TS_STR_MAX]. */
void sk_ts_format_us(int64_t us, char out[SK_TS_STR_MAX]);

/* Format microseconds with millisecond precision, as STIX producers do. */
void sk_ts_format_ms(int64_t us, char out[SK_TS_STR_MAX]);

#endif
