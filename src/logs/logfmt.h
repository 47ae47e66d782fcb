/*
 * logfmt.h - internal interface between the line reader (logread.c) and the
 * per-format line parsers (logfmt_*.c).
 *
 * A parser gets one line (without its newline) and a builder that fills the
 * record (detect/logbuild.h).  It returns LF_RECORD, LF_SKIP (header,
 * comment, blank) or LF_MALFORMED with a static reason.  Values that need
 * rewriting go to the builder's scratch area, whose size bounds the work per
 * line.
 */
#ifndef SCHAKEL_LOGFMT_H
#define SCHAKEL_LOGFMT_H

#include "detect/logbuild.h"
#include "schakel/logread.h"
#include "schakel/psl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LF_SKIP = 0, LF_RECORD = 1, LF_MALFORMED = -1 };

/* ---- formats ---- */

/* Zeek field actions, shared by TSV and JSON (looked up by column name). */
typedef enum zk_act {
	ZK_IGNORE = 0,
	ZK_TS,
	ZK_PATH,
	ZK_IP_SRC,
	ZK_IP_DST,
	ZK_IP,
	ZK_PORT_SRC,
	ZK_PORT_DST,
	ZK_DOMAIN,
	ZK_HOST, /* IP or domain */
	ZK_HTTP_HOST,
	ZK_HTTP_URI,
	ZK_URL,
	ZK_JA3,
	ZK_JA3S,
	ZK_JA4,
	ZK_MD5,
	ZK_SHA1,
	ZK_SHA256,
	ZK_HASH,
	ZK_X509_FP, /* by length: SHA-1 or SHA-256 */
	ZK_X509_SERIAL,
	ZK_EMAIL_SRC,
	ZK_EMAIL_DST,
	ZK_EMAIL,
	ZK_UA,
	ZK_FILENAME,
	ZK_SIGNATURE,
} zk_act;

/* Index of a column name in the Zeek map (-1 = unmapped); entry i: its action and static name. */
int sk_logfmt_zeek_lookup(const char *name, size_t n);
const char *sk_logfmt_zeek_entry(int i, zk_act *act);
/* Action for a Zeek column of that name (any log). */
zk_act sk_logfmt_zeek_action(const char *name, size_t n);
/* Apply a (non-vector) Zeek value; ZK_HTTP_* are gathered by the caller. */
void sk_logfmt_zeek_apply(sk_logbuild *b, zk_act act, const char *field, const char *v, size_t n);

typedef struct sk_zeek_state sk_zeek_state;
sk_err sk_logfmt_zeek_new(sk_zeek_state **out);
void sk_logfmt_zeek_free(sk_zeek_state *z);
int sk_logfmt_zeek_line(sk_zeek_state *z, sk_logbuild *b, const char *line, size_t len,
                        const char **reason);

/* JSON lines: Zeek JSON and Suricata EVE (logfmt_eve.c holds the walker). */
int sk_logfmt_zeekjson_line(sk_logbuild *b, const char *line, size_t len, const char **reason);
int sk_logfmt_eve_line(sk_logbuild *b, const char *line, size_t len, const char **reason);

typedef struct sk_csv_state sk_csv_state;
sk_err sk_logfmt_csv_new(const char *mapping, sk_csv_state **out, sk_error *err);
void sk_logfmt_csv_free(sk_csv_state *c);
int sk_logfmt_csv_line(sk_csv_state *c, sk_logbuild *b, const char *line, size_t len,
                       const char **reason);

/* psl may be NULL (TLD syntax fallback). */
int sk_logfmt_text_line(const sk_psl *psl, sk_logbuild *b, const char *line, size_t len,
                        const char **reason);

#endif
